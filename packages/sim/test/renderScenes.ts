// Scenes for the renderer tests, written here so the tests do not depend on the scene builder.

/**
 * A tabletop with every primitive the renderer draws (plane, box, sphere, capsule, cylinder,
 * ellipsoid, a mesh asset, a material colour), a geom with alpha 0 and a collision-only geom in
 * group 3 (both must stay invisible), a cube on a free joint, and two cameras: a fixed "overview"
 * and "mover", which looks straight down from a body on a slide joint.
 */
export const TABLETOP_XML = `<mujoco model="render-tabletop">
  <asset>
    <mesh name="wedge" vertex="0 0 0  0.08 0 0  0 0.08 0  0 0 0.05  0.08 0 0.05  0 0.08 0.05"/>
    <material name="blue" rgba="0.2 0.3 0.9 1"/>
  </asset>
  <worldbody>
    <geom name="floor" type="plane" size="0 0 0.05" rgba="0.55 0.58 0.6 1"/>
    <geom name="table" type="box" pos="0.5 0 0.2" size="0.3 0.4 0.2" rgba="0.6 0.45 0.3 1"/>
    <body name="cube" pos="0.45 -0.05 0.435">
      <freejoint name="cube"/>
      <geom name="cube" type="box" size="0.035 0.035 0.035" rgba="0.9 0.2 0.2 1"/>
    </body>
    <geom name="ball" type="sphere" pos="0.56 0.12 0.44" size="0.04" material="blue"/>
    <geom name="capsule" type="capsule" fromto="0.32 0.14 0.425 0.42 0.26 0.425" size="0.025" rgba="0.2 0.8 0.3 1"/>
    <geom name="cylinder" type="cylinder" pos="0.66 -0.16 0.45" size="0.035 0.05" rgba="0.9 0.8 0.2 1"/>
    <geom name="egg" type="ellipsoid" pos="0.7 0.12 0.445" size="0.03 0.06 0.045" rgba="0.8 0.3 0.8 1"/>
    <geom name="wedge" type="mesh" mesh="wedge" pos="0.3 -0.25 0.4" rgba="0.3 0.8 0.8 1"/>
    <geom name="ghost" type="sphere" pos="0.5 0 0.5" size="0.06" rgba="1 1 1 0"/>
    <geom name="collision" type="box" pos="0.6 0.02 0.43" size="0.03 0.03 0.03" group="3" rgba="1 0 0 1"/>
    <camera name="overview" pos="1.25 0 1.05" xyaxes="0 1 0 -0.66 0 0.75" fovy="45"/>
    <body name="slider" pos="0.5 0 0.95">
      <joint name="slide" type="slide" axis="0 1 0"/>
      <inertial pos="0 0 0" mass="0.1" diaginertia="1e-4 1e-4 1e-4"/>
      <camera name="mover" xyaxes="0 -1 0 1 0 0" fovy="50"/>
    </body>
  </worldbody>
</mujoco>`;
