import { decodeToolOutput } from '../../../src/sources/windows/command';
import { parseHyperVDropReasons } from '../../../src/sources/windows/hyperv-drop-reasons';
import { parseVfpPortList } from '../../../src/sources/windows/vfp-port-counters';
import { fixture } from '../../helpers/fixtures';

const BOM_UTF16LE = Buffer.from([0xff, 0xfe]);
const BOM_UTF8 = Buffer.from([0xef, 0xbb, 0xbf]);

describe('decodeToolOutput', () => {
  const json = fixture('windows/hyperv-drop-reasons.reconstructed.json');
  const list = fixture('windows/vfpctrl-list-vmswitch-port.reconstructed.txt');

  it('decodes PowerShell UTF-16LE output with its byte order mark, and the parsers read it', () => {
    const decoded = decodeToolOutput(Buffer.concat([BOM_UTF16LE, Buffer.from(json, 'utf16le')]));
    expect(decoded).toBe(json);
    expect(parseHyperVDropReasons(decoded)).toEqual(parseHyperVDropReasons(json));
  });

  it('decodes UTF-16LE output without a byte order mark', () => {
    expect(decodeToolOutput(Buffer.from(list, 'utf16le'))).toBe(list);
    expect(parseVfpPortList(decodeToolOutput(Buffer.from(list, 'utf16le')))).toHaveLength(4);
  });

  it('drops a UTF-8 byte order mark, and reads plain UTF-8 and ASCII as they are', () => {
    expect(decodeToolOutput(Buffer.concat([BOM_UTF8, Buffer.from(json, 'utf8')]))).toBe(json);
    expect(decodeToolOutput(Buffer.from(list, 'utf8'))).toBe(list);
    expect(decodeToolOutput(Buffer.from('Größe : 1\r\n', 'utf8'))).toBe('Größe : 1\r\n');
    expect(decodeToolOutput(Buffer.alloc(0))).toBe('');
  });
});
