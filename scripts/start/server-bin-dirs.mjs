// Plain JavaScript: scripts/bootstrap.mjs reads it before any node module (tsx) is installed.

/**
 * Folders off a non-root PATH where Debian installs a server's executable, searched before PATH
 * by bootstrap (is it installed?) and by `npm start` (which one to run). For RabbitMQ the script in
 * /usr/lib/rabbitmq/bin runs the node as the caller; the /usr/sbin wrapper (on root's PATH only)
 * would switch to the `rabbitmq` user, who cannot write under .data.
 */
export const SERVER_BIN_DIRS = {
  'rabbitmq-server': ['/usr/lib/rabbitmq/bin'],
};
