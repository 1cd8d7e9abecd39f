import { runReference, type Method } from './reference-problem.js';
const n = Number(process.argv[2]);
const m = JSON.parse(process.argv[3]) as Method;
console.log(JSON.stringify(runReference(n, m)));
