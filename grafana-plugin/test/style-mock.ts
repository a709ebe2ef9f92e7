// Style sheets imported by Grafana's UI packages: nothing to apply in jsdom.
export default {};
