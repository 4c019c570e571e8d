#!/usr/bin/env node
// vnic's entry point: the compiled CLI lives in dist/ (npm install builds it).
import { main } from "../dist/src/cli.js";

process.exitCode = await main(process.argv.slice(2));
