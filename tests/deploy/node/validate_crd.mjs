// Validate Prometheus Operator resources against the schemas generated from the operator's
// CRDs (@kubernetes-models/prometheus-operator). Input on stdin: a JSON array of manifests.
// Exit 0 when all are valid; otherwise print each problem and exit 1.
import { readFileSync } from "node:fs";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";

const MODELS = { "monitoring.coreos.com/v1/ServiceMonitor": ServiceMonitor };
let failed = false;
for (const doc of JSON.parse(readFileSync(0, "utf8"))) {
  const id = `${doc.apiVersion}/${doc.kind}`;
  const Model = MODELS[id];
  if (!Model) {
    console.log(`${id} ${doc.metadata?.name}: no schema known`);
    failed = true;
    continue;
  }
  try {
    new Model(doc).validate();
    console.log(`${id} ${doc.metadata.name}: valid`);
  } catch (error) {
    console.log(`${id} ${doc.metadata?.name}: ${error.message}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
