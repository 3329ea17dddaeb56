export { dockerEngineAnswers } from './containers.ts';
export { type Deferred, deferred } from './deferred.ts';
export { eventually } from './eventually.ts';
export { INFRA_ENV, type Infra, managementRequest, startInfra } from './infra.ts';
export { freePort, listeningAddresses, loopbackOnly, waitForPort } from './ports.ts';
export { erlangCookie, LOOPBACK_DISTRIBUTION, type RabbitMqHandle } from './rabbitmq.ts';
export { connectionAclRules } from './redis-acl.ts';
export type { ServerHandle } from './server-handle.ts';
export { startPostgres, startRabbitMq, startRedis } from './servers.ts';
export { type ServiceMain, startServiceMain } from './service-main.ts';
export {
  listenTcpProxy,
  startTcpProxy,
  type TcpProxy,
  type TcpProxyListener,
} from './tcp-proxy.ts';
export { startTokenIssuer, type TestTokenIssuer, type TokenOptions } from './token-issuer.ts';
