import rootPackage from '../../package.json' with { type: 'json' }

/** zap's version, kept in the root package.json: `zap --version`, every `/healthz` and `zap_build_info` report it. */
export const version: string = rootPackage.version
