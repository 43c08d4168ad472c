// policy check's engine, for the command: what to probe, the run, and how to report it.
export {auditEndpoints, parseProbeEndpoint} from './endpoints.js'
export {
  NAGIOS,
  brokenPromises,
  nagiosLine,
  nagiosState,
  promiseVerdicts,
  summarise,
  tableRows,
  tableWidths,
} from './report.js'
export {runAudit} from './run.js'
export {DEFAULT_AUDIT, DEFAULT_RETENTION} from './settings.js'
