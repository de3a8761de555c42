// Signs webhook payloads with Stripe's own Node library (the `stripe` package pinned in
// package.json), as Stripe's test helpers do: reads [{payload, secret, timestamp}] as JSON on
// stdin, prints the matching `Stripe-Signature` headers as a JSON array.
import Stripe from "stripe";

const stripe = new Stripe("sk_test_not_used_for_signing");
let input = "";
for await (const chunk of process.stdin) input += chunk;
const out = JSON.parse(input).map(({ payload, secret, timestamp }) =>
  stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp }),
);
// The library's own verifier accepts what it signed (within its default 300 s tolerance);
// verifyHeader checks the signature only, so bodies that are not JSON are signed too.
for (const [i, { payload, secret, timestamp }] of JSON.parse(input).entries()) {
  if (Date.now() / 1000 - timestamp <= 300) stripe.webhooks.signature.verifyHeader(payload, out[i], secret);
}
process.stdout.write(JSON.stringify(out));
