"""dcsim package part."""
