/**
 * Nest's webpack configuration without its fork-ts-checker plugin, for the bundles the integration
 * tests and the bench build (`--webpackPath`): `npm run typecheck` checks the same sources before
 * the tests (as .ci/run does), and the checker doubled each build's CPU (api: 16 s of CPU, 10.8 s
 * wall → 4 s, 3.4 s). `npm run build`, `npm start` and the Dockerfile keep it.
 */
module.exports = (options) => ({
  ...options,
  plugins: options.plugins.filter((plugin) => plugin.constructor.name !== 'ForkTsCheckerWebpackPlugin'),
});
