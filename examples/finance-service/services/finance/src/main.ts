import { ConfigError, loadConfig } from './config';
import { startServer } from './server';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`finance: cannot start: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const server = await startServer(config);
  const { shutdownTimeoutMs } = config;

  const onSignal = (signal: NodeJS.Signals): void => {
    const deadline = setTimeout(() => {
      process.stderr.write(`finance: shutdown did not finish within ${shutdownTimeoutMs} ms; exiting\n`);
      process.exit(1);
    }, shutdownTimeoutMs);
    deadline.unref();
    server.shutdown(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`finance: shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

main().catch((error: unknown) => {
  process.stderr.write(`finance: startup failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
