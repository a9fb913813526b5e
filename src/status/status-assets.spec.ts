import { Script } from 'node:vm';
import { StatusAssets } from './status-assets';

const assetOf = (assets: StatusAssets, path: string) => {
  const asset = assets.get(path.replace(/^assets\//, ''));
  if (asset === undefined) throw new Error(`${path} not served`);
  return asset;
};

describe('StatusAssets', () => {
  const assets = new StatusAssets();

  it('serves uPlot and the page files under names that carry a hash of their content', () => {
    expect(assets.page.scripts).toEqual([
      expect.stringMatching(/^assets\/uPlot\.[0-9a-f]{12}\.js$/),
      expect.stringMatching(/^assets\/status-page\.[0-9a-f]{12}\.js$/),
    ]);
    for (const path of assets.page.stylesheets) {
      expect(assetOf(assets, path).contentType).toBe('text/css; charset=utf-8');
    }
    expect(assets.get('uPlot.js')).toBeUndefined();
  });

  it('builds a page script that parses and refers to no module: the browser has none', () => {
    const script = assetOf(assets, assets.page.scripts[1] ?? '').body.toString();
    expect(() => new Script(script)).not.toThrow();
    expect(script).not.toMatch(/\brequire\(|\bexports\.|\w+_\d+\./);
  });
});
