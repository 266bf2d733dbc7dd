// `npm run eval [-- SET] [options]`: accuracy figures as JSON on stdout (progress on stderr).
//   (none)    the labelled photos: highres/ and tv-crops/ verification, groups/ face counts, liveness-crops
//   lfw       LFW folds in lfw-dev/: pair accuracy, AUC, TAR at FAR, open-set 1:N, false matches vs gallery size
//   liveness  passive liveness: every cue and the fusion, fitted on one part and reported on the other
//   sessions  challenge-response liveness sessions per attack type (live, wrong order, replay, tilted print, photo series)
const sets: Record<string, string> = { lfw: './eval-lfw.js', liveness: './eval-liveness.js', sessions: './eval-sessions.js' };
const set = process.argv[2] && !process.argv[2].startsWith('-') ? process.argv[2] : '';
if (set && !sets[set]) {
  console.error(`unknown evaluation set "${set}"; choose one of: ${Object.keys(sets).join(', ')} (or none for the labelled photos)`);
  process.exit(2);
}
await import(set ? sets[set] : './eval-photos.js');
