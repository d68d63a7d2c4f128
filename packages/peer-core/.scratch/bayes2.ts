import { gaussianClusters } from '../src/data/synthetic.js';
const nc = (dim: number, cpc: number, noise: number, classes = 10) => {
  const { test, centers } = gaussianClusters({ classes, dim, clustersPerClass: cpc, noiseStd: noise, seed: 1, testPerClass: 300 });
  const n = centers.length / dim;
  let minD = Infinity, sumNN = 0;
  for (let a = 0; a < n; a++) { let nn = Infinity; for (let b = 0; b < n; b++) { if (a === b) continue; let d = 0; for (let j = 0; j < dim; j++) d += ((centers[a*dim+j]??0)-(centers[b*dim+j]??0))**2; nn = Math.min(nn, Math.sqrt(d)); } minD = Math.min(minD, nn); sumNN += nn; }
  let ok = 0;
  for (let i = 0; i < test.size; i++) {
    let best = -1, bd = Infinity;
    for (let c = 0; c < n; c++) { let d = 0; for (let j = 0; j < dim; j++) d += ((test.x[i*dim+j]??0) - (centers[c*dim+j]??0))**2; if (d < bd) { bd = d; best = c; } }
    if (Math.floor(best / cpc) === test.y[i]) ok++;
  }
  console.log({ dim, cpc, noise, minNN: minD.toFixed(2), meanNN: (sumNN / n).toFixed(2), nearestCentre: ok / test.size });
};
nc(16, 4, 0.3);
for (const noise of [1.0, 1.25, 1.5]) nc(32, 16, noise);
for (const noise of [0.8, 1.0, 1.2]) nc(16, 8, noise);
