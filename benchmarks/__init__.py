"""dcsim performance suite (`make bench`): each case prints its figure beside a same-run baseline."""
