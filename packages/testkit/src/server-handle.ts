/** A running server the testkit started (or borrowed), and how to get rid of it. */
export interface ServerHandle {
  readonly url: string;
  stop(): Promise<void>;
}
