"""The physical fitness test of 《国家学生体质健康标准（2014年修订）》: the tables (data files in
`tables/`, each naming its source), the scoring, the import of a school's sheet and the export.

Scoring, as the standard has it:
- each item scores by its table: the highest level (100, 95, …, 60, 50, …, 10) whose threshold the
  value meets (at least it where more is better, at most it for times); below the lowest, 0;
- BMI = weight / height² (kg/m², one decimal) scores by its bands (正常 100, 低体重 and 超重 80,
  肥胖 60);
- the standard score is the weighted sum of the item scores (weights by grade, `weights.csv`);
- bonus points (附加分): beyond an item's 100-point threshold (rope skipping in primary school),
  one point per `step` more, at most 20 (the standard's total is 120 at most);
- the year's total is the standard score plus the bonus; its level: 优秀 ≥ 90.0, 良好 ≥ 80.0,
  及格 ≥ 60.0, 不及格 below;
- the graduation score: the final year's total × 50% + the mean of the other years' totals × 50%.

An item whose table is not transcribed (grades 7 to 12 here: no public transcription was found)
is kept with its measurement and `None` as its score, and the standard score, the total and the
level are then not computed: shown as not scored, never guessed.
"""
