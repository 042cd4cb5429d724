"""The activity overview: counts as charts, tables and CSV, for the secretariat and each SPOC."""
