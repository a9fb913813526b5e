import type { AddressInfo } from 'node:net';
import type { RunningService } from './test-context';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** The in-process service's HTTP base address; it listens on an ephemeral port (HTTP_PORT=0). */
export function baseUrl(service: RunningService): string {
  const address = (service.app.getHttpServer() as { address(): AddressInfo | string }).address();
  if (typeof address === 'string') throw new Error(`unexpected address ${address}`);
  return `http://127.0.0.1:${address.port}`;
}

/** One real HTTP request to the service. */
export async function request(
  service: RunningService,
  path: string,
  method = 'GET',
): Promise<HttpAnswer> {
  const response = await fetch(`${baseUrl(service)}${path}`, { method });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** A stack frame as Node prints it: "at fn (/path/file.ts:12:34)". */
export const STACK_LINE = /\bat .+:\d+:\d+/;
