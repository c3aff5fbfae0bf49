// Mocha reporter: the Spec output plus the closing line CI reads ("N passed, N failed").
// With TANDEM_RESULTS set to a file path, the counts are also appended there as JSON so that
// .ci/run can add up several mocha runs into one closing line.
'use strict';
const fs = require('node:fs');
const Mocha = require('mocha');

class TandemReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once('end', () => {
      const { passes = 0, failures = 0, pending = 0 } = runner.stats || {};
      const skipped = pending ? `, ${pending} skipped` : '';
      process.stdout.write(`${passes} passed, ${failures} failed${skipped}\n`);
      if (process.env.TANDEM_RESULTS) {
        fs.appendFileSync(process.env.TANDEM_RESULTS, JSON.stringify({ passes, failures, pending }) + '\n');
      }
    });
  }
}
module.exports = TandemReporter;
