"""Where a training's catalogue-wide stages run: `local` (this process) or `spark` (Apache
Spark, `movie_r.engines.spark`), chosen by `MOVIE_R_ENGINE`. Both run the same ranking code
on the same inputs, so both give the same model."""
