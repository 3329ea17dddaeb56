/** An answer of the API: status, headers and the parsed JSON body (undefined when empty). */
export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

export interface ApiRequest {
  /** Bearer token; omitted for anonymous calls. */
  readonly token?: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** A small JSON client over the gateway, as any API client would call it. */
export interface ApiClient {
  request<T = unknown>(method: string, path: string, req?: ApiRequest): Promise<ApiResponse<T>>;
  get<T = unknown>(path: string, req?: ApiRequest): Promise<ApiResponse<T>>;
  post<T = unknown>(path: string, req?: ApiRequest): Promise<ApiResponse<T>>;
}

export function apiClient(baseUrl: string): ApiClient {
  const request = async <T>(
    method: string,
    path: string,
    req: ApiRequest = {},
  ): Promise<ApiResponse<T>> => {
    const headers: Record<string, string> = { ...req.headers };
    if (req.token) headers.authorization = `Bearer ${req.token}`;
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      body: (text ? JSON.parse(text) : undefined) as T,
    };
  };
  return {
    request,
    get: (path, req) => request('GET', path, req),
    post: (path, req) => request('POST', path, req),
  };
}

/** Signs in with username and password (the `happening-cli` client's direct grant). */
export async function passwordGrant(
  tokenUrl: string,
  username: string,
  password: string,
): Promise<string> {
  const res = await fetch(tokenUrl, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: 'happening-cli',
      scope: 'openid',
      username,
      password,
    }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json()) as { access_token?: string; error_description?: string };
  if (!res.ok || !body.access_token) {
    throw new Error(`sign-in of ${username} failed (${res.status}): ${body.error_description}`);
  }
  return body.access_token;
}

/** Throws with the answer's body unless the status is one of `expected`. */
export function expectStatus<T>(res: ApiResponse<T>, what: string, ...expected: number[]): T {
  if (!expected.includes(res.status)) {
    throw new Error(
      `${what}: expected ${expected.join(' or ')}, got ${res.status} ${JSON.stringify(res.body)}`,
    );
  }
  return res.body;
}
