export declare const SERVER_BIN_DIRS: {
  readonly 'rabbitmq-server': readonly string[];
};
