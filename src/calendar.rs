//! `calendar`: the week's tasks per partner from its funnel: briefs, enablement emails, CTA proposals.
