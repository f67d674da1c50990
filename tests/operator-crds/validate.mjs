// Validates prometheus-operator objects against the operator's CRD OpenAPI
// schemas (@kubernetes-models/prometheus-operator). Reads a JSON array of
// objects on stdin; prints one line per invalid object and exits 1 if any
// is invalid, 2 on an unknown kind.
import { PodMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor";
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";

const models = {
  "monitoring.coreos.com/v1 PodMonitor": PodMonitor,
  "monitoring.coreos.com/v1 PrometheusRule": PrometheusRule,
};

let input = "";
for await (const chunk of process.stdin) input += chunk;
let failed = false;
for (const object of JSON.parse(input)) {
  const Model = models[`${object.apiVersion} ${object.kind}`];
  const name = `${object.kind} ${object.metadata?.name}`;
  if (!Model) {
    console.log(`${name}: no schema for ${object.apiVersion} ${object.kind}`);
    process.exit(2);
  }
  try {
    new Model(object).validate();
  } catch (e) {
    failed = true;
    console.log(`${name}: ${e.message}`);
  }
}
process.exit(failed ? 1 : 0);
