// Drives one real Node SDK against eventmart: `node send.js <sdk> <host> <key> <prefix> [gzip|plain]`.
// Sends the calls tests/sdk/test_node_sdks.py asserts (ids start with <prefix>), then flushes
// and exits 0 once the SDK has delivered (or 1 if it reported an error).
"use strict";

const [sdk, host, key, prefix, compression = "gzip"] = process.argv.slice(2);
const T = new Date("2024-01-02T03:04:05.678Z");
const BAD_EVENT = "x".repeat(300); // event_type is at most 256 characters: one rejected message
let failed = false;

async function segmentFamily(client, close) {
  client.track({ userId: "user-42", event: "Order Completed", properties: { order_id: "o-1" }, timestamp: T, messageId: `${prefix}-track` });
  client.identify({ userId: "user-42", anonymousId: "anon-1", traits: { plan: "pro" }, messageId: `${prefix}-identify` });
  client.page({ userId: "user-42", category: "Docs", name: "Pricing", properties: { path: "/pricing" }, messageId: `${prefix}-page` });
  client.screen({ userId: "user-42", name: "Home", messageId: `${prefix}-screen` });
  client.group({ userId: "user-42", groupId: "org-7", traits: { name: "Acme" }, messageId: `${prefix}-group` });
  client.alias({ userId: "user-42", previousId: "anon-1", messageId: `${prefix}-alias` });
  client.track({ anonymousId: "anon-2", event: BAD_EVENT, messageId: `${prefix}-bad` });
  await close();
}

async function segmentNode() {
  const { Analytics } = require("@segment/analytics-node");
  const client = new Analytics({ writeKey: key, host, flushAt: 50, flushInterval: 200, maxRetries: 10 });
  client.on("error", (err) => { failed = true; console.error("segment error", err && err.reason ? err.reason : err); });
  await segmentFamily(client, () => client.closeAndFlush({ timeout: 60000 }));
}

async function rudderNode() {
  const Analytics = require("@rudderstack/rudder-sdk-node");
  const client = new Analytics(key, {
    dataPlaneUrl: host, flushAt: 50, flushInterval: 200, gzip: compression === "gzip", retryCount: 5, logLevel: "error",
    errorHandler: (err) => { failed = true; console.error("rudder error", err && err.message); },
  });
  await segmentFamily(client, () => client.flush());
}

async function posthogNode() {
  const { PostHog } = require("posthog-node");
  const client = new PostHog(key, { host, flushAt: 50, flushInterval: 200, disableCompression: compression !== "gzip", fetchRetryCount: 5 });
  client.on("error", (err) => { failed = true; console.error("posthog error", err && err.message); });
  const uuid = (n) => `0190e1a0-0000-7000-8000-${prefix.replace(/[^0-9]/g, "").padStart(6, "0")}00000${n}`;
  client.capture({ distinctId: "user-42", event: "order completed", properties: { order_id: "o-1" }, timestamp: T, uuid: uuid(1) });
  client.identify({ distinctId: "user-42", properties: { $set: { plan: "pro" } } });
  client.capture({ distinctId: "user-42", event: "$pageview", properties: { $current_url: "https://shop.example/pricing" }, uuid: uuid(3) });
  client.groupIdentify({ groupType: "company", groupKey: "org-7", properties: { name: "Acme" } });
  client.alias({ distinctId: "user-42", alias: "anon-1" });
  client.capture({ distinctId: "user-42", event: BAD_EVENT, uuid: uuid(6) });
  await client.shutdown(60000);
}

const drivers = { "segment-node": segmentNode, "rudder-node": rudderNode, "posthog-node": posthogNode };
drivers[sdk]()
  .then(() => process.exit(failed ? 1 : 0))
  .catch((err) => { console.error(err); process.exit(1); });
