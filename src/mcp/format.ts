// Tool text formats money like every other surface.
export { formatUsd as usd } from '../core/money';
