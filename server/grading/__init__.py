"""Server side of grading: durable jobs, workers, reports, human review, integrity signals."""
