"""Assessment service: quizzes, exactly-once grading, item analysis and the events agents subscribe to."""
