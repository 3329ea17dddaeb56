import { readConfig } from './config.ts';
import { startBookingService } from './service.ts';

await startBookingService(readConfig());
