import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Platform, StageId } from '../lib/model';

export interface ComponentChartProps {
  readonly platform: Platform;
  /** The dist/ stage folder this component is applied in. */
  readonly stage: StageId;
  /** Default namespace of the chart's namespaced objects. */
  readonly namespace?: string;
}

/**
 * One component of the platform, written to dist/<stage>/<id>.yaml. The chart id is the
 * component's file name, so it must be unique and stable.
 */
export class ComponentChart extends Chart {
  readonly platform: Platform;
  readonly stage: StageId;

  constructor(scope: Construct, id: string, props: ComponentChartProps) {
    super(scope, id, { namespace: props.namespace, disableResourceNameHashes: true });
    this.platform = props.platform;
    this.stage = props.stage;
  }
}
