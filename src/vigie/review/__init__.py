"""Human review: category schemes, scripted decisions."""
