/** One Dockerfile instruction, with the build stage it belongs to. */
export interface Instruction {
  keyword: string;
  args: string;
  /** Index of the stage (0-based, by FROM). */
  stage: number;
}

/** A parsed Dockerfile: its instructions and its stages' names. */
export interface Dockerfile {
  instructions: Instruction[];
  stages: { index: number; name?: string; from: string }[];
}

/** Parses a Dockerfile: joins `\` continuations, drops comments and blank lines. */
export function parseDockerfile(text: string): Dockerfile {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logical.push(`${current}${line}`.trim());
    current = '';
  }
  if (current) logical.push(current.trim());

  const instructions: Instruction[] = [];
  const stages: Dockerfile['stages'] = [];
  let stage = -1;
  for (const line of logical) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      stage += 1;
      const match = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i.exec(args);
      stages.push({ index: stage, from: match?.[1] ?? '', name: match?.[2] });
    }
    instructions.push({ keyword: upper, args, stage });
  }
  return { instructions, stages };
}

/** The instructions of the final stage (the image that ships). */
export function finalStage(dockerfile: Dockerfile): Instruction[] {
  const last = dockerfile.stages.length - 1;
  return dockerfile.instructions.filter((i) => i.stage === last);
}
