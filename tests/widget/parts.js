// Loads parts of the widget (service/widget/) as the served script has them: their
// top-level names in one function scope, here handed back by name. No DOM is given, so a
// part that touches one at load time fails here.
'use strict';
const { readFileSync } = require('node:fs');
const path = require('node:path');

const DIR = path.join(__dirname, '..', '..', 'service', 'widget');

function load(parts, names) {
  const source = parts.map((part) => readFileSync(path.join(DIR, part), 'utf8')).join('\n');
  return new Function(`'use strict';\n${source}\nreturn { ${names.join(', ')} };`)();
}

module.exports = { load };
