import { expect } from 'chai';
import { PNG } from 'pngjs';
import { generateFace } from '../../src/data/synthetic-faces.js';
import {
  plotConfusionMatrix, plotContactSheet, plotLineChart, plotPredictionGrid, plotTrainingCurves,
} from '../../src/report/plot.js';
import { Canvas, encodePng } from '../../src/report/raster.js';

/** Decodes a PNG and counts pixels that are not the white background. */
function decode(png: Buffer): { width: number; height: number; ink: number; colours: number } {
  const img = PNG.sync.read(png);
  let ink = 0;
  const colours = new Set<number>();
  for (let i = 0; i < img.data.length; i += 4) {
    const [r, g, b] = [img.data[i], img.data[i + 1], img.data[i + 2]];
    if (r < 250 || g < 250 || b < 250) ink++;
    colours.add((r << 16) | (g << 8) | b);
  }
  return { width: img.width, height: img.height, ink, colours: colours.size };
}

const NAMES = ['anger', 'disgust', 'fear', 'happiness', 'neutral', 'sadness', 'surprise'];

describe('report plotLineChart / plotTrainingCurves', () => {
  it('draws a line chart of the requested size with ink and several colours', () => {
    const png = plotLineChart({
      width: 500, height: 300, title: 'loss', xLabel: 'epoch', yLabel: 'loss',
      series: [{ name: 'train', values: [2, 1.5, 1.1, 0.8, 0.7] }, { name: 'val', values: [2.1, 1.7, null, 1.2, 1.1] }],
    });
    const d = decode(png);
    expect([d.width, d.height]).to.deep.equal([500, 300]);
    expect(d.ink).to.be.greaterThan(2000);
    expect(d.colours).to.be.greaterThan(10);
  });

  it('draws loss and accuracy panels from a history', () => {
    const e = Array.from({ length: 20 }, (_, i) => i);
    const png = plotTrainingCurves({
      trainLoss: e.map((i) => 2 * Math.exp(-i / 6)), valLoss: e.map((i) => 2.1 * Math.exp(-i / 8) + 0.1),
      trainAcc: e.map((i) => 1 - 0.85 * Math.exp(-i / 5)), valAcc: e.map((i) => 0.9 - 0.75 * Math.exp(-i / 6)),
    }, { title: 'training' });
    const d = decode(png);
    expect([d.width, d.height]).to.deep.equal([960, 400]);
    expect(d.ink).to.be.greaterThan(5000);
  });

  it('copes with a single point and a flat series', () => {
    expect(decode(plotLineChart({ series: [{ name: 'a', values: [0.5] }] })).width).to.equal(640);
    expect(decode(plotLineChart({ series: [{ name: 'a', values: [3, 3, 3] }] })).ink).to.be.greaterThan(500);
  });
});

describe('report plotConfusionMatrix', () => {
  it('draws an n x n heatmap with labels', () => {
    const m = NAMES.map((_, i) => NAMES.map((_, j) => (i === j ? 40 + i : (i * 7 + j * 3) % 6)));
    const d = decode(plotConfusionMatrix({ matrix: m, classNames: NAMES, title: 'confusion' }));
    expect(d.width).to.be.greaterThan(7 * 44);
    expect(d.height).to.be.greaterThan(7 * 44);
    expect(d.ink).to.be.greaterThan(7 * 7 * 44 * 30);
  });

  it('rejects a matrix that does not match the class names', () => {
    expect(() => plotConfusionMatrix({ matrix: [[1, 2]], classNames: ['a', 'b'] })).to.throw(/2x2/);
  });
});

describe('report plotPredictionGrid / plotContactSheet', () => {
  it('draws samples with right (green) and wrong (red) labels', () => {
    const samples = Array.from({ length: 6 }, (_, k) => ({
      image: generateFace(k, k, { size: 48, classes: 7 }), trueLabel: k, predLabel: k % 3 === 0 ? (k + 1) % 7 : k, prob: 0.5 + k / 20,
    }));
    const png = plotPredictionGrid({ samples, classNames: NAMES, columns: 3 });
    const img = PNG.sync.read(png);
    let green = 0, red = 0;
    for (let i = 0; i < img.data.length; i += 4) {
      const [r, g, b] = [img.data[i], img.data[i + 1], img.data[i + 2]];
      if (r === 26 && g === 153 && b === 51) green++;
      if (r === 217 && g === 38 && b === 31) red++;
    }
    expect(green).to.be.greaterThan(100);
    expect(red).to.be.greaterThan(100);
  });

  it('draws a labelled contact sheet of the expected size', () => {
    const rows = NAMES.slice(0, 2).map((label, c) => ({ label, images: [0, 1, 2].map((i) => generateFace(c, i, { size: 32 })) }));
    const d = decode(plotContactSheet(rows, { gap: 4 }));
    expect(d.height).to.equal(4 + 2 * 36);
    expect(d.ink).to.be.greaterThan(6 * 32 * 32 * 0.9);
  });
});

describe('report raster', () => {
  it('encodePng round-trips RGB pixels exactly', () => {
    const cv = new Canvas(5, 4, [0.2, 0.4, 0.6]);
    cv.text('A', 0, 0, [1, 0, 0]);
    const img = cv.toImage();
    const back = PNG.sync.read(encodePng(img));
    for (let i = 0; i < 20; i++) {
      for (let c = 0; c < 3; c++) expect(back.data[i * 4 + c]).to.equal(img.data[i * 3 + c]);
    }
    expect([...img.data.slice(0, 3)]).to.deep.equal([51, 102, 153]);
  });
});
