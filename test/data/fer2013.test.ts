import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FER2013_CLASSES, FERPLUS_CLASSES, majorityLabel, pluralityLabel, readFer2013, readFerPlus } from '../../src/data/fer2013.js';
import { tempDir } from './fixtures.js';

const px = (v: number, n = 9) => Array.from({ length: n }, (_, i) => (v + i) % 256).join(' ');

describe('readFer2013', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('reads rows into splits by Usage, grey expanded to RGB (quoted and bare pixels, CRLF)', async () => {
    const p = write('fer.csv', [
      'emotion,pixels,Usage',
      `0,${px(10)},Training`,
      `6,"${px(20)}",PublicTest`,
      `3,${px(250)},PrivateTest`,
      `5,${px(0)},Training`,
      '',
    ].join('\r\n'));
    const ds = await readFer2013(p);
    expect(ds.classNames).to.deep.equal(['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral']);
    expect(ds.splits.train!.map((s) => s.label)).to.deep.equal([0, 5]);
    expect(ds.splits.val!.map((s) => s.label)).to.deep.equal([6]);
    expect(ds.splits.test!.map((s) => s.label)).to.deep.equal([3]);
    const im = ds.splits.val![0].image;
    expect([im.width, im.height]).to.deep.equal([3, 3]);
    expect(Array.from(im.data.subarray(0, 6))).to.deep.equal([20, 20, 20, 21, 21, 21]);
    expect(Array.from(ds.splits.test![0].image.data.subarray(15, 18))).to.deep.equal([255, 255, 255]);
    expect(ds.splits.test![0].source).to.equal(`${p}:4`);
  });

  it('accepts the icml_face_data header (spaces, other column order) and train.csv without Usage', async () => {
    const icml = await readFer2013(write('icml.csv', `emotion, Usage, pixels\n2, Training, ${px(1)}\n`));
    expect(icml.splits.train!.map((s) => s.label)).to.deep.equal([2]);
    const kaggle = await readFer2013(write('train.csv', `emotion,pixels\n4,${px(1)}\n1,${px(2)}\n`));
    expect(Object.keys(kaggle.splits)).to.deep.equal(['train']);
    expect(kaggle.splits.train!.length).to.equal(2);
  });

  const bad: [string, string, RegExp][] = [
    ['missing column', `emotion,Usage\n0,Training\n`, /bad\.csv: missing column "pixels" \(header has: emotion, Usage\)/],
    ['bad pixel count', `emotion,pixels,Usage\n0,${px(1)},Training\n0,${px(1, 8)},Training\n`, /bad\.csv:3: expected 9 pixel values \(3x3\) like the first row, found 8/],
    ['non-square', `emotion,pixels,Usage\n0,${px(1, 8)},Training\n`, /bad\.csv:2: 8 pixel values do not make a square image/],
    ['label out of range', `emotion,pixels,Usage\n7,${px(1)},Training\n`, /bad\.csv:2: emotion 7 is out of range 0\.\.6/],
    ['label not integer', `emotion,pixels,Usage\nx,${px(1)},Training\n`, /bad\.csv:2: emotion "x" is not an integer/],
    ['pixel over 255', `emotion,pixels,Usage\n0,1 2 3 4 256 6 7 8 9,Training\n`, /bad\.csv:2: pixel value 5 is over 255/],
    ['pixel not a number', `emotion,pixels,Usage\n0,1 2 3 4 -5 6 7 8 9,Training\n`, /bad\.csv:2: pixel value 5 contains "-"/],
    ['bad usage', `emotion,pixels,Usage\n0,${px(1)},Dev\n`, /bad\.csv:2: Usage "Dev" is not Training, PublicTest or PrivateTest/],
    ['field count', `emotion,pixels,Usage\n0,${px(1)}\n`, /bad\.csv:2: expected 3 fields like the header, found 2/],
    ['unterminated quote', `emotion,pixels,Usage\n0,"${px(1)},Training\n`, /bad\.csv:2: unterminated quoted field/],
    ['empty', ``, /bad\.csv: empty file/],
  ];
  for (const [name, text, re] of bad) {
    it(`rejects: ${name}`, async () => {
      const p = write('bad.csv', text);
      let err: Error | undefined;
      await readFer2013(p).catch((e: Error) => (err = e));
      expect(err?.message).to.match(re);
    });
  }

  it('a line longer than maxLineBytes is an error, not an unbounded buffer', async () => {
    const p = write('long.csv', `emotion,pixels,Usage\n0,${'1 '.repeat(5000)},Training\n`);
    let err: Error | undefined;
    await readFer2013(p, { limits: { maxLineBytes: 4096 } }).catch((e: Error) => (err = e));
    expect(err?.message).to.match(/long\.csv:2: line longer than 4096 bytes/);
  });
});

describe('FERPlus labels', () => {
  // columns: neutral happiness surprise sadness anger disgust fear contempt unknown NF
  it('plurality: most votes wins; ties, unknown/NF and no votes are dropped', () => {
    expect(pluralityLabel([4, 0, 0, 1, 3, 2, 0, 0, 0, 0])).to.equal(0);
    expect(pluralityLabel([0, 0, 0, 0, 0, 0, 0, 6, 4, 0])).to.equal(7);
    expect(pluralityLabel([5, 5, 0, 0, 0, 0, 0, 0, 0, 0])).to.equal('tie');
    expect(pluralityLabel([2, 0, 0, 0, 0, 0, 0, 0, 5, 3])).to.equal('unknown');
    expect(pluralityLabel([0, 0, 0, 0, 0, 0, 0, 0, 0, 10])).to.equal('unknown');
    expect(pluralityLabel(new Array(10).fill(0))).to.equal('none');
  });

  it('majority: single votes discarded, then more than half required', () => {
    expect(majorityLabel([4, 1, 0, 1, 3, 1, 0, 0, 0, 0])).to.equal(0); // 4 of 7 after dropping 1s
    expect(majorityLabel([4, 0, 0, 0, 4, 2, 0, 0, 0, 0])).to.equal('tie');
    expect(majorityLabel([1, 1, 1, 1, 1, 1, 1, 1, 1, 1])).to.equal('none');
    expect(majorityLabel([0, 0, 0, 0, 0, 0, 0, 0, 9, 1])).to.equal('unknown');
  });

  it('class order is the fer2013new.csv column order', () => {
    expect(FERPLUS_CLASSES).to.deep.equal(['neutral', 'happiness', 'surprise', 'sadness', 'anger', 'disgust', 'fear', 'contempt']);
    expect(FER2013_CLASSES.length).to.equal(7);
  });
});

describe('readFerPlus', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());
  const HEADER = 'Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF';
  const images = (d: string) => {
    const p = join(d, 'fer2013.csv');
    writeFileSync(p, ['emotion,pixels,Usage', `0,${px(1)},Training`, `3,${px(2)},Training`, `6,${px(3)},PublicTest`, `2,${px(4)},PrivateTest`].join('\n'));
    return p;
  };

  it('aligns rows by order and applies the vote rule', async () => {
    const imgs = images(dir);
    const labels = join(dir, 'fer2013new.csv');
    writeFileSync(labels, [
      HEADER,
      'Training,fer0000000.png,4,0,0,1,3,2,0,0,0,0',
      'Training,,0,0,0,0,0,0,0,0,0,10',
      'PublicTest,fer0000002.png,0,1,9,0,0,0,0,0,0,0',
      'PrivateTest,fer0000003.png,0,0,0,0,0,0,0,10,0,0',
    ].join('\n'));
    const ds = await readFerPlus(imgs, labels);
    expect(ds.classNames).to.deep.equal(FERPLUS_CLASSES);
    expect(ds.splits.train!.map((s) => s.label)).to.deep.equal([0]);
    expect(ds.splits.train![0].source).to.equal(`${imgs}:2`);
    expect(ds.splits.val!.map((s) => s.label)).to.deep.equal([2]);
    expect(Array.from(ds.splits.val![0].image.data.subarray(0, 3))).to.deep.equal([3, 3, 3]);
    expect(ds.splits.test!.map((s) => s.label)).to.deep.equal([7]);
    expect(ds.notes[0]).to.match(/kept 3 of 4 rows; dropped 1 unknown\/NF, 0 ties, 0 without votes/);
  });

  it('rejects misaligned files, short or long label files and missing columns', async () => {
    const imgs = images(dir);
    const labels = join(dir, 'fer2013new.csv');
    const rows = ['Training,a,10,0,0,0,0,0,0,0,0,0', 'Training,b,10,0,0,0,0,0,0,0,0,0', 'PublicTest,c,10,0,0,0,0,0,0,0,0,0'];
    const attempt = async (text: string) => {
      writeFileSync(labels, text);
      return readFerPlus(imgs, labels).then(() => undefined, (e: Error) => e.message);
    };
    expect(await attempt([HEADER, rows[0], rows[2], rows[2]].join('\n'))).to.match(/fer2013new\.csv:3: Usage "PublicTest" differs from .*fer2013\.csv:3 \("Training"\)/);
    expect(await attempt([HEADER, ...rows].join('\n'))).to.match(/fer2013new\.csv: ends after 3 rows but .*fer2013\.csv goes on \(line 5\)/);
    expect(await attempt([HEADER, ...rows, 'PrivateTest,d,1,0,0,0,0,0,0,0,0,0', rows[0]].join('\n'))).to.match(/has more rows than/);
    expect(await attempt(['Usage,Image name,neutral', rows[0]].join('\n'))).to.match(/fer2013new\.csv: missing column "happiness"/);
    expect(await attempt([HEADER, 'Training,a,10,0,0,0,0,0,0,0,0,-1'].join('\n'))).to.match(/fer2013new\.csv:2: NF count "-1" is not an integer|NF count -1 is out of range/);
  });
});
