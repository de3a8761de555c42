//! Funnel stage: journeys (first-touch attribution with a window), stage counts, Wilson intervals, verdicts and action rules.
