import { Controller, Get, Header, NotFoundException, Param, StreamableFile } from '@nestjs/common';
import { renderStatusPage } from './status-page.html';
import { StatusAssets } from './status-assets';
import type { StatusSnapshot } from './status-snapshot';
import { StatusService } from './status.service';
import { STATUS_VIEWS } from './status-view';

/** Only the service's own files: no inline script or style, no other origin. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** `GET /` (the status page), `GET /status` (its JSON) and the page's files. */
@Controller()
export class StatusController {
  constructor(
    private readonly status: StatusService,
    private readonly assets: StatusAssets,
  ) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', CONTENT_SECURITY_POLICY)
  @Header('Cache-Control', 'no-store')
  @Header('X-Content-Type-Options', 'nosniff')
  @Header('Referrer-Policy', 'no-referrer')
  async page(): Promise<string> {
    const snapshot = await this.status.snapshot();
    return renderStatusPage(snapshot, STATUS_VIEWS, this.assets.page);
  }

  @Get('status')
  @Header('Cache-Control', 'no-store')
  snapshot(): Promise<StatusSnapshot> {
    return this.status.snapshot();
  }

  @Get('assets/:name')
  // The name carries a hash of the content: a new version is a new name.
  @Header('Cache-Control', 'public, max-age=31536000, immutable')
  @Header('X-Content-Type-Options', 'nosniff')
  asset(@Param('name') name: string): StreamableFile {
    const asset = this.assets.get(name);
    if (asset === undefined) throw new NotFoundException();
    return new StreamableFile(asset.body, { type: asset.contentType, length: asset.body.length });
  }
}
