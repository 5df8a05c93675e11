// The notifier's public face: how to start it, how its deliveries are read (the CLI's
// `bluegreen notifications`), and how a receiver checks a webhook's signature.
// What unit tests need from inside comes from internal.ts.
export { type Delivery, type DeliveryStatus, deliveryKey } from "./decide.ts";
export { notifierMetrics } from "./metrics.ts";
export { DEFAULT_SUBJECT, DEFAULT_TEMPLATE } from "./render.ts";
export { SIGNATURE_HEADER, signature, TIMESTAMP_HEADER } from "./sinks/webhook.ts";
export { NOTIFIER_MAIN, startNotifier } from "./start.ts";
export { listDeliveries } from "./store.ts";
