//! `report`: the funnel as Markdown for people, JSON for agents, HTML with SVG charts.
