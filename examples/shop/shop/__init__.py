"""shop: generate orders, price them, and write a CSV report with Flyte."""
