// The parts of Chart.js the trend chart uses, registered once: imported on demand by
// TrendChart.svelte, so the console's first load does not carry it and the bundle holds only these.
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from "chart.js";

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Legend, Tooltip);

export { Chart };
