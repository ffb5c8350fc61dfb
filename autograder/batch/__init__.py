"""Layer 8: a whole class: finding submissions, parallel workers, late penalties, grades.csv and the class report."""
