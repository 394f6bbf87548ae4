// Run the caniemail data (through the npm package doiuse-email) over email HTML files.
//
//   node caniemail.mjs DOIUSE_EMAIL_INDEX_JS CLIENTS_JSON FILE.html ...
//
// Prints one JSON object: for each file, the features a client does not support at all
// ("unsupported") and those it supports in part ("partial"), as [feature, client] pairs.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [modulePath, clientsJson, ...files] = process.argv.slice(2);
const { DoIUseEmail } = await import(pathToFileURL(modulePath).href);
const clients = JSON.parse(clientsJson);
const pair = /^`(.+)` is (?:not|only partially) supported by `(.+)`$/;

function pairs(messages) {
  const found = new Map();
  for (const message of messages) {
    const match = pair.exec(message);
    if (match === null) throw new Error(`unexpected message: ${message}`);
    found.set(`${match[1]}\u0000${match[2]}`, [match[1], match[2]]);
  }
  return [...found.values()];
}

const result = {};
for (const file of files) {
  const checker = new DoIUseEmail({ emailClients: ["gmail.*"] });
  // The package's list of client names lacks outlook.com, which its data has: set them.
  checker.emailClients = clients;
  checker.check(readFileSync(file, "utf8"));
  result[file] = { unsupported: pairs(checker.errors), partial: pairs(checker.warnings) };
}
process.stdout.write(JSON.stringify(result) + "\n");
