//! Read stage for payments: the `payment` and `refund` rows the Stripe webhook writes
//! ([`crate::collector::stripe`]), summed per partner, campaign and currency.

/// `event_name` of a payment row.
pub const PAYMENT: &str = "payment";
/// `event_name` of a refund row (negative amount, pointing at its payment).
pub const REFUND: &str = "refund";

/// Is this a payment or refund row (read by the revenue section, not the funnel)?
pub fn is_money_row(event_name: &str) -> bool {
    event_name == PAYMENT || event_name == REFUND
}
