"""The Monte Carlo bookings forecast (docs/forecasting.md): calibration from the company's own
history, the simulation of the open pipeline and of new deals, and its summary per group."""
