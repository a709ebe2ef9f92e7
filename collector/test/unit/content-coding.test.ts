import { responseCoding } from '../../src/web/content-coding';

describe('responseCoding (Accept-Encoding, RFC 9110 section 12.5.3)', () => {
  it.each([
    // What scrapers send: Prometheus, curl --compressed, a browser, and no header at all.
    ['gzip', 'gzip'],
    ['deflate, gzip, br, zstd', 'gzip'],
    ['gzip, deflate, br', 'gzip'],
    [undefined, 'identity'],
    ['', 'identity'],
    ['br, zstd', 'identity'],
    // Case and spacing do not matter. gzip's old name is not offered (no scraper sends it).
    ['GZip', 'gzip'],
    [' gzip ; q=0.8 , br', 'gzip'],
    ['x-gzip', 'identity'],
    ['x-gzip;q=0.5, gzip', 'gzip'],
    // "*" stands for every coding not named, never for one the client refused.
    ['*', 'gzip'],
    ['*;q=0.5, identity;q=0.1', 'gzip'],
    ['*;q=0, identity', 'identity'],
    ['*, gzip;q=0', 'identity'],
    ['gzip;q=0, *', 'identity'],
    // Quality: 0 refuses, a higher quality wins, equal quality goes to the smaller body.
    ['gzip;q=0', 'identity'],
    ['gzip;q=0.000', 'identity'],
    ['gzip;q=0.001', 'gzip'],
    ['identity, gzip;q=0.5', 'identity'],
    ['identity;q=0.5, gzip;q=0.5', 'gzip'],
    // Nothing acceptable: the body goes uncompressed rather than as a 406.
    ['br, identity;q=0', 'identity'],
  ])('Accept-Encoding %j: %s', (header, coding) => {
    expect(responseCoding(header === undefined ? {} : { 'accept-encoding': header })).toBe(coding);
  });
});
