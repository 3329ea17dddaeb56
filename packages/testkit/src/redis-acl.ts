/**
 * The ACL rules a Redis user needs on this server for what ioredis sends at every connect beside
 * the service's own commands: from Redis 7.2, `CLIENT SETINFO` (refused it logs an `ACL LOG`
 * entry); before, none, and `ACL SETUSER` refuses the rule as an unknown subcommand.
 * `infoServer` is the answer of `INFO server`.
 */
export function connectionAclRules(infoServer: string): string[] {
  const version = /^redis_version:(\d+)\.(\d+)/m.exec(infoServer);
  if (!version) throw new Error('INFO server names no redis_version');
  const [major, minor] = [Number(version[1]), Number(version[2])];
  return major > 7 || (major === 7 && minor >= 2) ? ['+client|setinfo'] : [];
}
