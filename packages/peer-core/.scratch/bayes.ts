import { gaussianClusters } from '../src/data/synthetic.js';
for (const [dim, cpc, noise] of [[16, 4, 0.3], [32, 8, 0.5], [32, 8, 0.6], [32, 16, 0.5], [16, 8, 0.4], [32, 16, 0.6]] as const) {
  const { test, centers } = gaussianClusters({ classes: 10, dim, clustersPerClass: cpc, noiseStd: noise, seed: 1 });
  let ok = 0;
  for (let i = 0; i < test.size; i++) {
    let best = -1, bd = Infinity;
    for (let c = 0; c < centers.length / dim; c++) { let d = 0; for (let j = 0; j < dim; j++) d += ((test.x[i*dim+j]??0) - (centers[c*dim+j]??0))**2; if (d < bd) { bd = d; best = c; } }
    if (Math.floor(best / cpc) === test.y[i]) ok++;
  }
  console.log(dim, cpc, noise, ok / test.size);
}
