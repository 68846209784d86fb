/* export-plot: `dllab export RUN... --plot loss|lr|lrfind|confusion|compare (--png FILE | --svg
 * FILE)
 * [--size WxH] [--csv DIR] [--x step|epoch|time] [--ylog]`: reads the runs from the store
 * (core/compare), builds the figure and draws it with src/plot-cairo; --csv DIR writes the
 * series drawn as DIR/<plot>.csv ("run,series,x,y"; the confusion matrix as a square table; a
 * multi-label run's figures as DIR/per-class.csv and DIR/thresh-sweep.csv).
 * cmd-export hands its argv here when it sees --plot. Exit codes as every command. */
#ifndef DL_EXPORT_PLOT_H
#define DL_EXPORT_PLOT_H

int dl_export_plot_cmd(int argc, char **argv);

#endif
