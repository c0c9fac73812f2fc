"""TutorMesh: a personal learning agent per student, negotiating with SME, assessment and admin agents."""
