"""The parts pages are made of: component ids, components, figure builders, text, clicks, the filter bar."""
