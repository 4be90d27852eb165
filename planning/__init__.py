"""Planning: workload at constant staffing, month by month, scenarios side by side.

- :mod:`planning.population`: the people of a scored file and every entrant of the horizon,
  drawn once (shared by all scenarios);
- :mod:`planning.simulate`: one scenario month by month (where people are, what falls due,
  the hours it takes, what gets done); :mod:`planning.model2`: model 2's monthly allocation
  with memory and named référents;
- :mod:`planning.plan`: the whole plan and its headline figures; :mod:`planning.report`
  (with :mod:`planning.charts`): the French HTML report, the CSV and the summary;
- :mod:`planning.worklist`: who is due for an examination in a week, per advisor.

The rules (staffing, norms, caps, allocation) live in :mod:`policy`; this package applies
them over time. See ``docs/planning.md``.
"""
